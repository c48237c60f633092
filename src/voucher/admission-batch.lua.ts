import { TOKEN_BUCKET_LUA } from '../redis/token-bucket.lua';

// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
/**
 * What both batched admission scripts (seckill-reserve.lua, seckill-admit.lua) share, prepended to
 * them with the token buckets: each request's rate limits, the sale's window, and the reply.
 */
export const ADMISSION_BATCH_LUA =
  TOKEN_BUCKET_LUA +
  String.raw`
-- A batch of 'requests' admissions: codes[i] and retries[i] per request, nil until decided.
local function newBatch(requests)
  return { requests = requests, codes = {}, retries = {} }
end

-- Each request's rate limits first (its user bucket at KEYS[firstBucket + 2(i - 1)], its address
-- bucket next to it; rates = {userRate, userBurst, addressRate, addressBurst}): a refused request is
-- decided as limitedCode, with when to retry, and costs nothing else.
local function limitBatch(batch, firstBucket, rates, nowMs, limitedCode)
  for i = 1, batch.requests do
    local allowed, retryAfterMs = takeTokens({
      {KEYS[firstBucket + 2 * (i - 1)], rates[1], rates[2]},
      {KEYS[firstBucket + 2 * (i - 1) + 1], rates[3], rates[4]},
    }, nowMs)
    if not allowed then
      batch.codes[i] = limitedCode
      batch.retries[i] = retryAfterMs
    end
  end
end

-- The reply {endMs, then code, retryAfterMs for each request}; 'code' for every request the batch
-- has not decided yet.
local function batchReply(batch, endMs, code)
  local out = {endMs}
  for i = 1, batch.requests do
    out[2 * i] = batch.codes[i] or code
    out[2 * i + 1] = batch.retries[i] or 0
  end
  return out
end

-- The sale's state {stock, begin, end, ...} against nowMs (this server's clock): the reply that
-- decides every request the limits let through — 0 no complete state (a partial hash counts as
-- missing), 1 not started, 2 ended — or nil while the sale is open.
local function closedSaleReply(batch, state, nowMs)
  if not state[1] or not state[2] or not state[3] then
    return batchReply(batch, 0, 0)
  end
  local endMs = tonumber(state[3])
  if nowMs < tonumber(state[2]) then
    return batchReply(batch, endMs, 1)
  end
  if nowMs >= endMs then
    return batchReply(batch, endMs, 2)
  end
  return nil
end
`;
