/** Lets tsc type the board's `.svelte` imports (Vite compiles them; tsc only sees this shape). */
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<any>;
  export default component;
}
