/** The board's entry: zod set up for the page's CSP, global styles, then the app mounted into #app. */
import './strict-csp.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import './styles.css';

mount(App, { target: document.getElementById('app')! });
