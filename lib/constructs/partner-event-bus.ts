import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { OKTA_DETAIL_TYPE } from '../../lambdas/shared/okta-event.ts';

export interface PartnerEventBusProps {
  /**
   * The Okta partner event source, `aws.partner/okta.com/<org>/<name>`. Okta creates it when the log stream is saved;
   * it must exist before the bus can be deployed.
   */
  readonly eventSourceName: string;
}

/**
 * The event bus for the Okta partner event source (EventBridge names it after the source) and a rule that matches
 * every System Log event from that source delivered to this account, for the pipeline's ingest path.
 */
export class PartnerEventBus extends Construct {
  public readonly eventBus: events.EventBus;
  /** Matches every System Log event of the source; its targets decide where events go. */
  public readonly allEventsRule: events.Rule;

  constructor(scope: Construct, id: string, props: PartnerEventBusProps) {
    super(scope, id);
    this.eventBus = new events.EventBus(this, 'Bus', { eventSourceName: props.eventSourceName });
    this.allEventsRule = new events.Rule(this, 'AllEventsRule', {
      eventBus: this.eventBus,
      description: 'Every Okta System Log event, to the ingest queue',
      eventPattern: {
        source: [props.eventSourceName],
        detailType: [OKTA_DETAIL_TYPE],
        account: [Stack.of(this).account],
      },
    });
  }
}
