/**
 * Imported first by main.ts. The server sends the board with a CSP that forbids eval; zod would
 * otherwise probe `new Function` on its first parse, which the browser reports as a violation.
 */
import { config } from 'zod';

config({ jitless: true });
