-- qcgate SEG filter for Orthanc.
--
-- Refuses every DICOM Segmentation instance (Segmentation Storage and Label
-- Map Segmentation Storage, PS3.4 B.5) that does not come from qcgate, so
-- that no SEG reaches the archive without passing the gateway's QC checks,
-- whether it is pushed to Orthanc by C-STORE, DICOMweb STOW-RS, the REST
-- API, WebDAV or a plugin. Other instances are let through untouched.
--
-- A SEG is accepted only when Orthanc reports it as received through its
-- REST API (POST /instances) from the gateway's own Orthanc user:
-- origin.RequestOrigin == "RestApi" and origin.Username == that user.
-- Orthanc 1.10 reports a DICOMweb STOW-RS upload as RequestOrigin "Plugins"
-- with no user name, whoever sent it, so STOW-RS cannot be told apart by
-- sender and every SEG arriving by STOW-RS is refused, the gateway's too.
-- The gateway therefore stores accepted SEGs with POST /instances.
--
-- Configuration, in Orthanc's configuration file:
--
--   "LuaScripts": [ "/etc/orthanc/orthanc-seg-filter.lua" ],
--   "QcgateSegFilter": { "GatewayUser": "qcgate" },
--   "AuthenticationEnabled": true,
--   "RegisteredUsers": { "qcgate": "..." }
--
-- The user name may come from the environment with Orthanc's own
-- substitution: "GatewayUser": "${QCGATE_ORTHANC_USER}". Without a gateway
-- user every SEG is refused. Keep "ExecuteLuaEnabled" false (Orthanc's
-- default since 1.5.8): a user allowed to run Lua could replace this filter.
-- If another script also defines ReceivedInstanceFilter, list this file
-- after it: this filter calls the one defined before it.
--
-- A refused instance is logged and dropped. Orthanc 1.10 still answers a
-- C-STORE with Success and lists a STOW-RS instance as stored; POST
-- /instances answers "Status": "FilteredOut".

local guardedClasses = {
  ["1.2.840.10008.5.1.4.1.1.66.4"] = "Segmentation Storage",
  ["1.2.840.10008.5.1.4.1.1.66.7"] = "Label Map Segmentation Storage",
}

-- sender names who sent an instance, as far as Orthanc tells.
local function sender(origin)
  return origin["Username"] or origin["RemoteAet"] or origin["RemoteIp"] or "an unnamed sender"
end

-- trim drops the space and NUL padding of a UI value (PS3.5 6.2).
local function trim(s)
  return (string.gsub(string.gsub(s, "^[%s%z]+", ""), "[%s%z]+$", ""))
end

local function readGatewayUser()
  local settings = GetOrthancConfiguration()["QcgateSegFilter"]
  if type(settings) ~= "table" then
    return nil
  end
  local user = settings["GatewayUser"]
  if type(user) ~= "string" or user == "" or string.find(user, "${", 1, true) then
    return nil
  end
  return user
end

local gatewayUser = readGatewayUser()
if gatewayUser == nil then
  print("qcgate SEG filter: QcgateSegFilter.GatewayUser is not set: every SEG is refused")
else
  print("qcgate SEG filter: SEGs are accepted only from the REST API user " .. gatewayUser)
end

local previousFilter = ReceivedInstanceFilter

function ReceivedInstanceFilter(dicom, origin, info)
  local sopClass = dicom["SOPClassUID"]
  if type(sopClass) ~= "string" then
    print("qcgate SEG filter: refused an instance without a SOP Class UID")
    return false
  end

  local className = guardedClasses[trim(sopClass)]
  if className ~= nil then
    local fromGateway = gatewayUser ~= nil and
      origin["RequestOrigin"] == "RestApi" and origin["Username"] == gatewayUser
    if not fromGateway then
      print("qcgate SEG filter: refused a " .. className .. " instance " ..
        tostring(dicom["SOPInstanceUID"]) .. " received by " ..
        tostring(origin["RequestOrigin"]) .. " from " .. tostring(sender(origin)))
      return false
    end
  end

  if previousFilter ~= nil then
    return previousFilter(dicom, origin, info)
  end
  return true
end
