/**
 * Jest 30 ignores `testTimeout` inside `projects` entries (it is a global option), which left every
 * integration hook and test without an explicit timeout at 5 s. Each project names its default in
 * `globals.defaultTimeoutMs`; this sets it for tests and hooks alike.
 */
import { jest } from '@jest/globals';

const configured = (globalThis as { defaultTimeoutMs?: unknown }).defaultTimeoutMs;
jest.setTimeout(typeof configured === 'number' ? configured : 15_000);
