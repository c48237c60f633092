import { readFileSync } from 'node:fs';

/** `takeToken(bucketKey, ratePerSecond, burst, nowMs)` in Lua, for `RedisScript.withPrelude`. */
export const TOKEN_BUCKET_LUA = readFileSync(`${__dirname}/token-bucket.lua`, 'utf8');
