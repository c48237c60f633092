/**
 * The lock library's low-level Lua entry: the EVALSHA-with-EVAL-fallback runner the lock's own
 * scripts use, for applications that run scripts of their own on the same connections (the app's
 * `RedisScript` extends it). Not needed to take locks.
 */
export { LuaScript } from './lua-script';
export type { LockScriptClient, ScriptArg } from './redis-client';
