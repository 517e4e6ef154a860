import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PipelineFunction, type PipelineFunctionProps } from './pipeline-function.ts';

export interface ScheduledFunctionProps extends PipelineFunctionProps {
  /** @default events.Schedule.rate(Duration.minutes(1)) */
  readonly schedule?: events.Schedule;
}

/**
 * A pipeline function run on a schedule (a rule on the default event bus). Each run is a tick that does whatever work
 * is due, so a tick that fails or waits is dropped rather than retried: the next one covers it. With reserved
 * concurrency 1 this makes the function a single writer; ticks that find it busy are throttled and discarded.
 */
export class ScheduledFunction extends Construct {
  public readonly pipelineFunction: PipelineFunction;
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    this.pipelineFunction = new PipelineFunction(this, 'Handler', props);
    this.lambdaFunction = this.pipelineFunction.lambdaFunction;
    this.role = this.pipelineFunction.role;
    // The shortest age Lambda allows: a tick older than the schedule's period is stale.
    this.pipelineFunction.lambdaFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Runs the function on a schedule',
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(1)),
    });
    this.schedule.addTarget(
      new targets.LambdaFunction(this.pipelineFunction.lambdaFunction, {
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    );
  }
}
