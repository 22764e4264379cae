/** Where a fact about the image comes from: a path inside the image and, where there is one, a 1-based line. */
export interface SourceRef {
  path: string;
  line?: number;
}

/** A file or line that could not be understood; the rest of the image is still read. */
export interface ManifestProblem {
  path: string;
  line?: number;
  reason: string;
}
