/** Where the 256-bit repository key comes from. */
export interface KeyProvider {
  /** Where the key lives, for error messages; never the key itself. */
  readonly description: string;
  /** The repository key, created the first time a repository is used. */
  repositoryKey(): Promise<Buffer>;
}

export const repositoryKeyLength = 32;
