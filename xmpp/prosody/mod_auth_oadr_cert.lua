-- SASL EXTERNAL for OpenADR 2.0b over XMPP: a client certificate whose chain verifies against the
-- c2s_ssl cafile logs in as the account named by the certificate's subject CN (the VEN's name, the
-- VTN's ID). An authorization identity, when sent, must be that same bare JID on this host.
-- Derived from mod_auth_ccert (prosody-modules, MIT/X11, Kim Alvefur), which matches xmppAddr or
-- email instead of the CN.
local new_sasl = require "util.sasl".new;
local jid_split = require "util.jid".prepped_split;
local nodeprep = require "util.encodings".stringprep.nodeprep;

local oid_common_name = "2.5.4.3";

local function common_name(cert)
	local found;
	for _, ava in ipairs(cert:subject()) do
		if ava.oid == oid_common_name then
			if found then return nil; end -- two CNs: which account is meant is not clear
			found = ava.value;
		end
	end
	return found;
end

function get_sasl_handler(session)
	return new_sasl(module.host, {
		external = function(authz)
			local say = session.log or module._log;
			if not session.secure then return nil, nil; end
			local sock = session.conn:socket();
			local cert = sock:getpeercertificate();
			if not cert then say("warn", "no client certificate"); return nil, nil; end
			if not cert:validat(os.time()) then say("warn", "client certificate expired"); return nil, "expired"; end
			local chain_valid, chain_errors = sock:getpeerverification();
			if not chain_valid then
				for depth, errors in pairs(chain_errors or {}) do say("warn", "client certificate chain does not verify at depth %s: %s", depth, table.concat(errors, ", ")); end
				return nil, nil;
			end
			local username = nodeprep(common_name(cert) or "");
			if not username or username == "" then say("warn", "client certificate CN is not a JID local part"); return nil, nil; end
			if authz ~= "" then
				local node, host = jid_split(authz);
				if node ~= username or host ~= module.host then
					say("warn", "authzid %q is not the certificate's account %s@%s", authz, username, module.host);
					return nil, nil;
				end
			end
			return username, true;
		end
	});
end

function user_exists() return true; end
function test_password() return nil, "password authentication is off: use a client certificate"; end
function get_password() return nil, "no passwords"; end
function set_password() return nil, "no passwords"; end
function users() return function() return nil; end; end
function create_user() return nil, "accounts follow certificates"; end
function delete_user() return nil, "accounts follow certificates"; end

module:provides "auth";
