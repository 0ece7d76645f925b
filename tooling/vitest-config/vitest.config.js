import { defineTestConfig } from "./index.js";

export default defineTestConfig();
