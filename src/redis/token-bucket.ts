/** `takeTokens(buckets, nowMs)` (and `bucketTokens`) in Lua, for `RedisScript.withPrelude`. */
export { TOKEN_BUCKET_LUA } from './token-bucket.lua';
