-- POST /counts/<id>/lines as the count page's scanner sends it (htmx): a tag code of an item in the counted place,
-- a fresh event id, the place being counted (a whole-store count asks which) and `after`, the newest line the
-- phone shows. Each connection is a phone among as many counting at once (BENCH_CONNECTIONS): between two of its
-- scans every other phone scanned once, so it shows the lines up to the newest but one of each of the others.
-- Every answer is one new line, so the newest line is the count's newest when the run started (the newest-line
-- file) plus the answers so far; the answers are compressed, so this script counts them rather than reads them.
-- Arguments: <codes file> <expected status> <location id> <newest-line file>. The cookie, CSRF and HX headers
-- come from the driver.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local codes, place
local next_code, newest, answered, others = 0, 0, 0, 0

function init(args)
  codes = common.lines(args[1])
  expected_status = tonumber(args[2] or "200")
  place = args[3]
  if args[4] then newest = tonumber(common.lines(args[4])[1]) end
  others = (tonumber(os.getenv("BENCH_CONNECTIONS")) or 1) - 1
  common.seed()
end

local check = response
function response(status, headers, body)
  if status == expected_status then answered = answered + 1 end
  check(status, headers, body)
end

function request()
  next_code = next_code % #codes + 1
  local body = "code=" .. codes[next_code] .. "&event_id=" .. common.uuid4()
  if place then body = body .. "&location_id=" .. place end
  local after = newest + answered - others
  if after > 0 then body = body .. "&after=" .. after end
  local headers = common.headers({["Content-Type"] = "application/x-www-form-urlencoded"})
  return wrk.format("POST", wrk.path, headers, body)
end
