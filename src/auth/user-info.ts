/** The identity an authenticator produces, shaped like Kubernetes' user.Info / authentication.k8s.io UserInfo. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  /** Final groups, prefix applied. `system:authenticated` is added by the admission steps, not the authenticator. */
  readonly groups: readonly string[];
  /** Extra keys are lowercase, unescaped; each key maps to one or more non-empty values. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}
