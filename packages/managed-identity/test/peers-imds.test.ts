import { describePeers } from "./peers.js";

describePeers("imds");
