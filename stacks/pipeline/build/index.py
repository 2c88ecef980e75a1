"""Health check the pipeline runs after each deployment: GETs the stage's
/SERVICE/health through its load balancer and reports the result to
CodePipeline (UserParameters: {"url": "http://ALB", "services": [...]})."""
import json
import urllib.request

import boto3


def handler(event, context):
    job = event["CodePipeline.job"]
    params = json.loads(job["data"]["actionConfiguration"]["configuration"]["UserParameters"])
    cp = boto3.client("codepipeline")
    failed = []
    for svc in params["services"]:
        try:
            with urllib.request.urlopen("%s/%s/health" % (params["url"], svc), timeout=5) as r:
                if r.status != 200:
                    failed.append(svc)
        except OSError:
            failed.append(svc)
    if failed:
        cp.put_job_failure_result(jobId=job["id"], failureDetails={
            "type": "JobFailed", "message": "unhealthy: " + ", ".join(failed)})
    else:
        cp.put_job_success_result(jobId=job["id"])
