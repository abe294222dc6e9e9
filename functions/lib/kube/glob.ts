/**
 * Shell-style globs for resource names in filters and modifiers: `*` matches any run of
 * characters, `?` one character; everything else is literal ("*.apps", "deployments.*").
 */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((char) => {
      if (char === "*") return ".*";
      if (char === "?") return ".";
      return char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${body}$`);
}

export function matchesGlob(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}
