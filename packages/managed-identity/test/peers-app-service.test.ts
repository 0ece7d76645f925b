import { describePeers } from "./peers.js";

describePeers("app-service");
