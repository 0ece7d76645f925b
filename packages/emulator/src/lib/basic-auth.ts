// Client credentials in an `Authorization: Basic` header (RFC 6749 §2.3.1).
import { malformedRequest } from "../aadsts.js";

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. Throws AADSTS9002313 when malformed. */
export function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) throw malformedRequest("the Authorization header must be 'Basic base64(client_id:client_secret)'");
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw malformedRequest("the Basic credentials must be client_id:client_secret");
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw malformedRequest("the Basic credentials are not form-urlencoded as RFC 6749 section 2.3.1 requires");
  }
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, " "));
}
