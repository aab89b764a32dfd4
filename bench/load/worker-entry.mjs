// Worker threads do not inherit tsx from the parent's --import: register it, then load the worker.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.kind === 'fanout' ? './fanout-worker.ts' : './worker.ts');
