"""How `ecom run` adapts the DAG to `dag.test()`: every task in turn, in one process, with no triggerer.

- No retries: a retry would only wait out retry_delay and fail the same way; a rerun is a new run.
- The dbt group's model tasks (cosmos watcher consumers) run once its `dbt build` (the producer) has
  ended. dag.test runs the tasks that are ready in no set order, one at a time: a model task started
  before the producer would poll, then defer to a trigger that dag.test runs inline, for a build that
  could never start. In a deployment they start beside the producer and defer to the triggerer.
  Each first model task of the group waits for the producer to end in any state (its other upstream,
  the raw gate, must have succeeded), then reports its node's result; the tasks after it follow
  their own upstream model tasks as in the DAG file.
- A model task that finds no result for its node fails, instead of running dbt for that node alone
  (cosmos' fallback when the producer failed first): with the build over, it means the build stopped
  before reaching the node, and one dbt invocation per model is what this mode exists to avoid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import DAG


def prepare_for_dag_test(dag: DAG) -> None:
    from airflow.sdk import TriggerRule
    from cosmos.operators._watcher.base import BaseConsumerSensor
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    for task in dag.tasks:
        task.retries = 0
    for producer in (t for t in dag.tasks if isinstance(t, DbtProducerWatcherOperator)):
        consumers = [t for t in dag.tasks
                     if isinstance(t, BaseConsumerSensor) and t.producer_task_id == producer.task_id]
        for consumer in consumers:
            # cosmos' count of pokes that found no result: past the first, none means failure.
            consumer.poke_retry_number = 1
            if not any(isinstance(dag.get_task(u), BaseConsumerSensor) for u in consumer.upstream_task_ids):
                producer >> consumer
                consumer.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
