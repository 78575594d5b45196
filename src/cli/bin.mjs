#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so the package needs no build step.
import { register } from 'tsx/esm/api';

register();
const { cli } = await import('./main.ts');
await cli(process.argv);
// A finished command exits even if a client left a timer or socket open (a kafkajs reconnect after
// disconnect); the timer is unref'd, so it never delays a process that would exit anyway.
setTimeout(() => process.exit(), 3000).unref();
