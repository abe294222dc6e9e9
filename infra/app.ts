import { kubeferryApp } from "./kubeferry-app.ts";

kubeferryApp();
