// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const NEXT_ID_LUA = String.raw`
-- Next sequence number of one prefix for one UTC day. The counter expires after its day
-- (plus a day of grace), so old days do not accumulate.
local counterKey = KEYS[1]
local expireAtSeconds = tonumber(ARGV[1])

-- 40 per millisecond since this server's UTC midnight (at most 3,456,000,000, leaving 800 M+ for
-- the rest of any day): a counter restarted later in the day starts above every number the lost
-- one handed out, as long as the day averaged under 40,000 ids a second until then.
local function seedOffset()
  local now = redis.call('time')
  return (tonumber(now[1]) % 86400) * 40000 + math.floor(tonumber(now[2]) / 25)
end

local sequence = redis.call('incr', counterKey)
if sequence == 1 then
  -- A fresh counter: a new day, or one lost with Redis data (a restart without persistence, a
  -- failover). It starts above what the day can plausibly have handed out by now, so a lost
  -- counter never repeats an id; see seedOffset.
  sequence = redis.call('incrby', counterKey, seedOffset())
  redis.call('expireat', counterKey, expireAtSeconds)
end
return sequence
`;
