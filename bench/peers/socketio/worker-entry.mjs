// Worker threads do not inherit tsx from the parent's --import: register it, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
