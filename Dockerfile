# The server image: the server (compiled to JavaScript) and the board are built in their own
# stage; the runtime stage holds only production dependencies and dist/ (the compiled server,
# sql/ and the board: `npm run build`), runs it with no TypeScript loader, as the unprivileged
# `node` user.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
# package.json for "type": "module": dist/ is ES modules.
COPY package.json ./
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=2s --retries=6 \
  CMD node -e "fetch('http://127.0.0.1:8000/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/server/main.js"]
