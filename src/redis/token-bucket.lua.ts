// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const TOKEN_BUCKET_LUA = String.raw`
-- Token buckets, prepended to the admission scripts (seckill-reserve.lua, seckill-admit.lua, through
-- admission-batch.lua.ts) when they are loaded, so a request's rate limits are checked in the same round trip as its admission.
-- A bucket holds at most 'burst' tokens and refills at 'ratePerSecond'; a request takes one token
-- from each of its buckets — from all of them or, if any is empty, from none (a user over their
-- own limit does not drain the address bucket they share, and a refusal writes nothing).
-- 'nowMs' is this server's clock (TIME), the same for every replica. A rate of 0 means no limit.

-- A bucket's tokens now (refilled since its last write); a missing bucket is full.
local function bucketTokens(bucketKey, ratePerSecond, burst, nowMs)
  local bucket = redis.call('hmget', bucketKey, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or burst
  -- A clock step backwards (a failover to a host behind) refills nothing rather than going negative.
  local elapsedMs = math.max(0, nowMs - (tonumber(bucket[2]) or nowMs))
  return math.min(burst, tokens + elapsedMs * ratePerSecond / 1000)
end

-- buckets: a list of {key, ratePerSecond, burst}. Returns allowed (boolean), retryAfterMs (0 when allowed).
local function takeTokens(buckets, nowMs)
  local levels = {}
  local retryAfterMs = 0
  for i, bucket in ipairs(buckets) do
    if bucket[2] > 0 then
      levels[i] = bucketTokens(bucket[1], bucket[2], bucket[3], nowMs)
      if levels[i] < 1 then
        retryAfterMs = math.max(retryAfterMs, math.ceil((1 - levels[i]) * 1000 / bucket[2]))
      end
    end
  end
  if retryAfterMs > 0 then
    return false, retryAfterMs
  end
  -- Not written to the AOF nor sent to replicas: a bucket lost with a crash or a failover only
  -- starts full again, and a request that only reads the sale (sold out, say) must not cost an
  -- fsync (appendfsync always) for its bucket: measured at 0.57x of the sold-out throughput.
  redis.set_repl(redis.REPL_NONE)
  for i, bucket in ipairs(buckets) do
    if levels[i] then
      redis.call('hset', bucket[1], 'tokens', tostring(levels[i] - 1), 'at', tostring(nowMs))
      -- A full bucket is the same as no bucket: keep it only as long as refilling takes.
      redis.call('pexpire', bucket[1], math.ceil(bucket[3] * 1000 / bucket[2]) + 1000)
    end
  end
  redis.set_repl(redis.REPL_ALL)
  return true, 0
end
`;
