import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { OKTA_DETAIL_TYPE } from '../../lambdas/shared/okta-event.ts';

export interface PartnerEventBusProps {
  /**
   * The partner event source: Okta's `aws.partner/okta.com/<org>/<name>` (Okta creates it when the log stream is
   * saved), or Auth0's `aws.partner/auth0.com/<tenant>-<id>/auth0.logs` (Auth0 creates it when an EventBridge log
   * stream is created). It must exist before the bus can be deployed.
   */
  readonly eventSourceName: string;
  /** The `detail-type` every event of the source carries. @default 'SystemLog' (Okta's) */
  readonly detailType?: string;
  /** What the source's events are called, for the all-events rule's description. @default 'Okta System Log' */
  readonly eventName?: string;
}

/**
 * The event bus for a partner event source (EventBridge names it after the source) and a rule that matches every
 * event of the source's detail-type from that source delivered to this account, for the pipeline's ingest path.
 */
export class PartnerEventBus extends Construct {
  public readonly eventBus: events.EventBus;
  /** Matches every event of the source; its targets decide where events go. */
  public readonly allEventsRule: events.Rule;

  constructor(scope: Construct, id: string, props: PartnerEventBusProps) {
    super(scope, id);
    this.eventBus = new events.EventBus(this, 'Bus', { eventSourceName: props.eventSourceName });
    this.allEventsRule = new events.Rule(this, 'AllEventsRule', {
      eventBus: this.eventBus,
      description: `Every ${props.eventName ?? 'Okta System Log'} event, to the ingest queue`,
      eventPattern: {
        source: [props.eventSourceName],
        detailType: [props.detailType ?? OKTA_DETAIL_TYPE],
        account: [Stack.of(this).account],
      },
    });
  }
}
