-- Each request carries the next DPoP proof of a file bench/load.py wrote, one per line: a proof is
-- good once, so one fixed header would be refused from the second request on. The summary is
-- wrk_report.lua's.
dofile(os.getenv("SIGNIN_LAB_WRK_REPORT"))

local proofs = {}
for line in io.lines(os.getenv("SIGNIN_LAB_DPOP_PROOFS")) do
  proofs[#proofs + 1] = line
end
local sent = 0

request = function()
  sent = sent + 1
  wrk.headers["DPoP"] = proofs[(sent - 1) % #proofs + 1]
  return wrk.format()
end
