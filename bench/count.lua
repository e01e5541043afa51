-- POST /counts/<id>/lines as the count page's scanner sends it (htmx): a tag code of an item in the counted place,
-- a fresh event id and the place being counted (a whole-store count asks which).
-- Arguments: <codes file> <expected status> <location id>. The cookie, CSRF and HX headers come from the driver.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local codes, place
local next_code = 0

function init(args)
  codes = common.lines(args[1])
  expected_status = tonumber(args[2] or "200")
  place = args[3]
  common.seed()
end

function request()
  next_code = next_code % #codes + 1
  local body = "code=" .. codes[next_code] .. "&event_id=" .. common.uuid4()
  if place then body = body .. "&location_id=" .. place end
  local headers = common.headers({["Content-Type"] = "application/x-www-form-urlencoded"})
  return wrk.format("POST", wrk.path, headers, body)
end
