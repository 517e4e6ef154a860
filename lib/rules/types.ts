/** Alert severities, lowest first. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The log sources an alert rule can be written for. A rule without `source` is an Okta rule, so rule files written
 * before Auth0 keep their meaning.
 */
export const RULE_SOURCES = ['okta', 'auth0'] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

/** The kinds of stateful rule; a rule without `kind` raises an alert for each event it matches. */
export const RULE_KINDS = ['threshold', 'distinct', 'sequence'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** At most one alert per value of a field (`by`, a path in the source's record) per aligned period of `published`. */
export interface Suppression {
  readonly by: string;
  readonly forSeconds: number;
}

/** One count of a threshold rule, one step of a sequence: which events it is about (null: every pre-filtered one). */
export interface DetectPart {
  readonly label: string;
  /** An event pattern over the whole EventBridge event; null when the part takes every event the rule's match does. */
  readonly pattern: Record<string, unknown> | null;
  /** For counts: how many events make the alert. */
  readonly atLeast?: number | undefined;
}

/** What a stateful rule's detector does with the events its pre-filter lets through (compiled from the YAML). */
export interface DetectSpec {
  readonly kind: RuleKind;
  /** The field whose value a group is about: a path in the source's record (the System Log event; Auth0's `data`). */
  readonly groupBy: string;
  readonly windowSeconds: number;
  /** threshold: the counts, any of which raises the alert (a plain `atLeast` is one count over every event). */
  readonly counts?: readonly DetectPart[] | undefined;
  /** distinct: the field whose distinct values are counted, and how many make the alert. */
  readonly distinct?: { readonly field: string; readonly atLeast: number } | undefined;
  /** sequence: the steps, in `published` order within one window. */
  readonly steps?: readonly DetectPart[] | undefined;
  /** sequence: consecutive steps must be at least this fast apart (km/h) and this far apart (km). */
  readonly travel?: { readonly atLeastKmh: number; readonly ignoreUnderKm: number } | undefined;
}

/** What the alert Lambda needs to know about the rule that matched; travels with each matched event. */
export interface AlertRuleSummary {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly description: string;
  readonly runbook: string;
  /** The rule file's subject template, when it has one ({title}, {actor}, {target}, ...). */
  readonly subject?: string | undefined;
  /** At most one alert per value of a field per period, when the rule says so. */
  readonly suppress?: Suppression | undefined;
}

/** An alert rule compiled for deployment: one EventBridge rule on its source's event bus per alert rule. */
export interface CompiledAlertRule extends AlertRuleSummary {
  /**
   * Which source's events the rule matches, so the stack can put it on that source's event bus. Not part of the
   * summary that travels with matched events: the event's own envelope says where it came from. Always set by
   * `compileRules`; optional so that rules built by hand (tests, tools) before Auth0 stay valid, and absent means okta.
   */
  readonly source?: RuleSource | undefined;
  /**
   * The EventBridge event pattern, scoped to one event source; the same object the local pattern engine evaluates.
   * For a stateful rule, the pre-filter: which events go to its detector.
   */
  readonly pattern: Record<string, unknown>;
  /** A stateful rule's detector; absent for a rule that alerts on each event it matches. */
  readonly detect?: DetectSpec | undefined;
}

/**
 * The Auth0 log type codes (`data.type`) Auth0 documents, from "Log Type Codes" (auth0.com/docs/deploy-monitor/logs/
 * log-event-type-codes, read November 2026) and the log stream filter tables. Rules may name codes missing here
 * (Auth0 adds codes); `olp rules lint` only points them out, since a misspelt code is a rule that never fires.
 */
export const AUTH0_LOG_TYPES: ReadonlySet<string> = new Set([
  ...['acls_summary', 'actions_execution_failed', 'acul_sdk_notice', 'admin_update_launch', 'api_limit'],
  ...['api_limit_warning', 'appi', 'ciba_exchange_failed', 'ciba_exchange_succeeded', 'ciba_start_failed'],
  ...['ciba_start_succeeded', 'cls', 'coff', 'con', 'connected_accounts_connection_failed'],
  ...['connected_accounts_connection_succeeded', 'connected_accounts_delete_failed'],
  ...['connected_accounts_delete_succeeded', 'cs', 'custom_domain_verification_failed', 'depnote'],
  ...['directory_sync_completed', 'directory_sync_failed', 'directory_sync_started', 'du', 'f'],
  ...['failed_on_behalf_of_token_exchange', 'fapi', 'fc', 'fce', 'fco', 'fcoa', 'fcp', 'fcph', 'fcpn', 'fcpr'],
  ...['fcpro', 'fcu', 'fd', 'fdeac', 'fdeaz', 'fdecc', 'fdu', 'feacft', 'feccft', 'fecte', 'fede'],
  ...['federated_logout_failed', 'fens', 'feoobft', 'feotpft', 'fepft', 'fepotpft', 'fercft', 'ferrt', 'fertft'],
  ...['feta', 'fi', 'flo', 'flows_execution_completed', 'flows_execution_failed', 'fn', 'forms_submission_failed'],
  ...['forms_submission_succeeded', 'fp', 'fpar', 'fpurh', 'fs', 'fsa', 'fscim', 'fu', 'fui', 'fv', 'fvr'],
  ...['gd_auth_email_verification', 'gd_auth_fail_email_verification', 'gd_auth_failed', 'gd_auth_rejected'],
  ...['gd_auth_succeed', 'gd_enrollment_complete', 'gd_otp_rate_limit_exceed', 'gd_recovery_failed'],
  ...['gd_recovery_rate_limit_exceed', 'gd_recovery_succeed', 'gd_send_email', 'gd_send_email_verification'],
  ...['gd_send_email_verification_failure', 'gd_send_pn', 'gd_send_pn_failure', 'gd_send_sms'],
  ...['gd_send_sms_failure', 'gd_send_voice', 'gd_send_voice_failure', 'gd_start_auth', 'gd_start_enroll'],
  ...['gd_start_enroll_failed', 'gd_tenant_update', 'gd_unenroll', 'gd_update_device_account'],
  ...['gd_webauthn_challenge_failed', 'gd_webauthn_enrollment_failed', 'idjag_exchange_failed'],
  ...['idjag_exchange_succeeded', 'jwt_bearer_exchange_failed', 'kms_key_management_failure'],
  ...['kms_key_management_success', 'kms_key_state_changed', 'limit_delegation', 'limit_mu', 'limit_sul'],
  ...['limit_ui', 'limit_wc', 'mfar', 'mgmt_api_read', 'my_account_authentication_method_failed'],
  ...['my_account_authentication_method_succeeded', 'oidc_backchannel_logout_failed'],
  ...['oidc_backchannel_logout_succeeded', 'organization_member_added', 'passkey_challenge_failed'],
  ...['passkey_challenge_started', 'pla', 'pwd_leak', 'reset_pwd_leak', 'resource_cleanup'],
  ...['rich_consents_access_error', 's', 'sapi', 'sce', 'scoa', 'scp', 'scpn', 'scpr', 'scu', 'scv', 'sd', 'sdu'],
  ...['seacft', 'seccft', 'secte', 'sede', 'sens', 'seoobft', 'seotpft', 'sepft', 'sepkoobft', 'sepkotpft'],
  ...['sepkrcft', 'sercft', 'sertft', 'seta', 'si', 'signup_pwd_leak', 'slo', 'srrt', 'ss', 'ss_sso_failure'],
  ...['ss_sso_info', 'ss_sso_success', 'ssa', 'sscim', 'success_on_behalf_of_token_exchange', 'sui', 'sv', 'svr'],
  ...['sys_os_update_end', 'sys_os_update_start', 'sys_update_end', 'sys_update_start', 'too_many_records'],
  ...['ublkdu', 'universal_logout_failed', 'universal_logout_succeeded', 'w', 'wn', 'wum'],
]);
