#!/usr/bin/env node
import "../dist/bin-entry.js";
