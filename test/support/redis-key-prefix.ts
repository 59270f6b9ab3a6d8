/**
 * Jest setupFiles: with REDIS_URL set (a supported way to run the tests against one Redis), each test file gets its
 * own REDIS_KEY_PREFIX, read by libs/jobs when it loads, so test apps of different files never share rooms,
 * recordings, events or BullMQ queues. Processes a test spawns inherit it (a worker must see its server's queues).
 */
import { randomBytes } from 'node:crypto';

if (process.env.REDIS_URL && !process.env.REDIS_KEY_PREFIX) process.env.REDIS_KEY_PREFIX = `t${process.pid}-${randomBytes(4).toString('hex')}`;
