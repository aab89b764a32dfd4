// autocannon ships no types; the bench uses only its promise API (see scenarios/http.ts).
declare module 'autocannon' {
  const autocannon: (options: Record<string, unknown>) => Promise<unknown>;
  export default autocannon;
}
