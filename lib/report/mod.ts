/** A static, offline HTML report of a run: executed notebooks, figures and tables, with an index. */
export * from "./markdown.ts";
export * from "./notebook_format.ts";
export * from "./render_output.ts";
export * from "./page_layout.ts";
export * from "./build_report.ts";
export * from "./display_check.ts";
