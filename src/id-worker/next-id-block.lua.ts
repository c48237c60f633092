// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const NEXT_ID_BLOCK_LUA = String.raw`
-- Reserves a block of 'size' sequence numbers of one prefix's UTC day with one INCRBY; the caller
-- hands them out locally. Returns the block's last number (the first is last - size + 1).
-- Blocks never overlap, so ids stay unique across replicas and restarts; a block left unused by a
-- restart is simply skipped.
local counterKey = KEYS[1]
local size = tonumber(ARGV[1])
local expireAtSeconds = tonumber(ARGV[2])

-- 40 per millisecond since this server's UTC midnight (at most 3,456,000,000, leaving 800 M+ for
-- the rest of any day): a counter restarted later in the day starts above every number the lost
-- one handed out, as long as the day averaged under 40,000 ids a second until then.
local function clockFloor()
  local now = redis.call('time')
  return (tonumber(now[1]) % 86400) * 40000 + math.floor(tonumber(now[2]) / 25)
end

local floor = clockFloor()
local last = redis.call('incrby', counterKey, size)
-- The floor applies on every reservation, not only to a fresh counter (a new day, or one lost with
-- Redis data): a promoted replica that missed the master's last reservations has a counter that is
-- behind, but never ahead of the clock, so the block starts above every number the lost
-- reservations covered (they were at most a block above the floor of their time, which the clock
-- passes 25 ms later for 1,000 ids).
if last - size < floor then
  last = floor + size
  redis.call('set', counterKey, last)
end
redis.call('expireat', counterKey, expireAtSeconds)
return last
`;
