import { readFileSync } from 'node:fs';

/** `takeTokens(buckets, nowMs)` (and `bucketTokens`) in Lua, for `RedisScript.withPrelude`. */
export const TOKEN_BUCKET_LUA = readFileSync(`${__dirname}/token-bucket.lua`, 'utf8');
