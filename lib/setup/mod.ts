export * from "./system_packages.ts";
export * from "./kernelspec.ts";
export * from "./node_modules_install.ts";
export * from "./ensure_setup.ts";
export * from "./notebook_server.ts";
export * from "./user_kernelspec.ts";
