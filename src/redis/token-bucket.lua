-- Token bucket, prepended to the admission scripts (seckill-reserve.lua, seckill-admit.lua) when
-- they are loaded, so a request's rate limit is checked in the same round trip as its admission.
-- A bucket holds at most `burst` tokens and refills at `ratePerSecond`; a request takes one.
-- `nowMs` is this server's clock (TIME), the same for every replica. A rate of 0 means no limit.
-- Returns allowed (boolean), retryAfterMs (0 when allowed).
local function takeToken(bucketKey, ratePerSecond, burst, nowMs)
  if ratePerSecond <= 0 then
    return true, 0
  end
  local bucket = redis.call('hmget', bucketKey, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or burst
  -- A clock step backwards (a failover to a host behind) refills nothing rather than going negative.
  local elapsedMs = math.max(0, nowMs - (tonumber(bucket[2]) or nowMs))
  tokens = math.min(burst, tokens + elapsedMs * ratePerSecond / 1000)
  local allowed = tokens >= 1
  local retryAfterMs = 0
  if allowed then
    tokens = tokens - 1
  else
    retryAfterMs = math.ceil((1 - tokens) * 1000 / ratePerSecond)
  end
  -- Not written to the AOF nor sent to replicas: a bucket lost with a crash or a failover only
  -- starts full again, and a request that only reads the sale (sold out, say) must not cost an
  -- fsync (appendfsync always) for its bucket: measured at 0.57× of the sold-out throughput.
  redis.set_repl(redis.REPL_NONE)
  redis.call('hset', bucketKey, 'tokens', tostring(tokens), 'at', tostring(nowMs))
  -- A full bucket is the same as no bucket: keep it only as long as refilling takes.
  redis.call('pexpire', bucketKey, math.ceil(burst * 1000 / ratePerSecond) + 1000)
  redis.set_repl(redis.REPL_ALL)
  return allowed, retryAfterMs
end

