-- POST /scan as the lookup page's scanner does (htmx): a random tag code, HX-Request, the CSRF token in a header.
-- The cookie, CSRF and HX headers come from the driver (wrk -H).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local codes

function init(args)
  codes = common.lines(args[1])
  expected_status = tonumber(args[2] or "200")
  common.seed()
end

function request()
  local body = "code=" .. codes[math.random(#codes)]
  local headers = common.headers({["Content-Type"] = "application/x-www-form-urlencoded"})
  return wrk.format("POST", wrk.path, headers, body)
end
