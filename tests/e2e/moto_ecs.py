"""moto_fixed.py plus the ECS deployment circuit breaker moto 5.2.1 lacks.

moto models a deployment's outcome with two variables: MOTO_ECS_SERVICE_RUNNING
(the tasks a service runs; its deployment is COMPLETED when they reach the
desired count) and MOTO_ECS_SERVICE_FAILED_TASKS (the deployment's
failedTasks). But it never fails a deployment: with failed tasks and too few
running, the rollout stays IN_PROGRESS forever, and a service has no events.

On AWS the deployment circuit breaker marks such a deployment FAILED, with
the rolloutStateReason and the service events below, and (with rollback)
starts a deployment of the last completed one. This wrapper does the first
part only, in DescribeServices: the PRIMARY deployment of a service that has
failed tasks and fewer running than desired becomes FAILED, and the events
AWS writes are added to the service (newest first). There is no rollback:
the service keeps its task definition, so what cairn records after the
failure is what boto3 reports. Everything else is moto_fixed.py's moto.

    MOTO_ECS_SERVICE_FAILED_TASKS=3 python3 tests/e2e/moto_ecs.py -H 127.0.0.1 -p PORT
"""
import sys
import uuid

import moto_fixed  # noqa: F401  (its signature fixes, applied on import)
from moto.core.utils import utcnow
from moto.ecs.models import EC2ContainerServiceBackend
from moto.server import main

_orig_describe_services = EC2ContainerServiceBackend.describe_services


def _event(message):
    return {"id": str(uuid.uuid4()), "createdAt": utcnow(), "message": message}


def _trip_breaker(service):
    for d in service.deployments:
        if d.get("status") != "PRIMARY" or d.get("rolloutState") != "IN_PROGRESS":
            continue
        if not d.get("failedTasks") or service.running_count >= service.desired_count:
            continue
        d["rolloutState"] = "FAILED"
        d["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        d["updatedAt"] = utcnow()
        task = uuid.uuid4().hex
        service.events[:0] = [
            _event("(service %s) (deployment %s) deployment failed: tasks failed to start."
                   % (service.name, d["id"])),
            _event("(service %s) is unable to consistently start tasks successfully. "
                   "For more information, see the Troubleshooting section of the Amazon "
                   "ECS Developer Guide." % service.name),
            _event("(service %s) has started 1 tasks: (task %s)." % (service.name, task)),
        ]


def _describe_services(self, cluster_str, service_names_or_arns):
    result, failures = _orig_describe_services(self, cluster_str, service_names_or_arns)
    for service in result:
        _trip_breaker(service)
    return result, failures


EC2ContainerServiceBackend.describe_services = _describe_services

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
