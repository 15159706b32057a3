"""Nightly afimport run as an Airflow DAG: one mapped task per shard.

Each mapped task instance runs `afimport import --shard i/4` in its own pod
(KubernetesPodOperator). The token is a Kubernetes Secret mounted as a file
and read with --token-file; it never appears in the DAG, the rendered
arguments, XCom or the logs. {{ ds }} is the run's logical date: the export
day, so a backfill or a manual re-run of a day works on that day's export and
resumes its reports (--resume).

Exit codes: 0 ok; 1 some rows not accepted (the task fails after its
retries, which resume and so retry only rows not accepted: read the report);
2 (mapping/usage) and 3 (token or app refused) fail every retry within
seconds, and the task fails so someone is told.
"""

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret

SHARDS = 4
DAY = "{{ ds }}"

token = Secret(
    deploy_type="volume",
    deploy_target="/var/run/secrets/afimport",  # the file is .../token
    secret="afimport-token",
    key="token",
)

with DAG(
    dag_id="afimport_renewals",
    # 00:05 in the app's timezone: yesterday's rows are accepted until 00:30.
    schedule="5 0 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="America/New_York"),
    catchup=False,
    max_active_runs=1,  # never two runs at once (the flock of cron)
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)},
    tags=["afimport"],
) as dag:
    KubernetesPodOperator.partial(
        task_id="afimport_shard",
        name="afimport",
        image="registry.example.com/afimport:1.0.0",  # built from the repository's Dockerfile
        cmds=["afimport"],
        secrets=[token],
        volumes=[],  # add the PVC with /data/exports, /data/reports and the mapping ConfigMap here
        volume_mounts=[],
        get_logs=True,
        on_finish_action="delete_pod",
        execution_timeout=pendulum.duration(hours=1),
    ).expand(
        arguments=[
            [
                "import", "--resume", "--quiet", "--log-format=json",
                f"--shard={i}/{SHARDS}",
                "--rate=225",  # per shard: 4 x 225 = 900 requests/s in all
                "--token-file=/var/run/secrets/afimport/token",
                "--mapping=/etc/afimport/renewals.yaml",
                f"--report=/data/reports/renewals-{DAY}.shard-{i}-of-{SHARDS}.report.csv",
                f"--summary=/data/reports/renewals-{DAY}.shard-{i}-of-{SHARDS}.summary.json",
                f"--metrics-file=/data/metrics/afimport-{i}.prom",
                f"/data/exports/{DAY}/",
            ]
            for i in range(SHARDS)
        ],
    )

# The same on a worker with afimport installed (BashOperator). The token
# file is readable by the worker's user only (chmod 600).
with DAG(
    dag_id="afimport_renewals_bash",
    schedule="5 0 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="America/New_York"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)},
) as bash_dag:
    BashOperator.partial(
        task_id="afimport_shard",
        execution_timeout=pendulum.duration(hours=1),
    ).expand(
        bash_command=[
            "afimport import --resume --quiet --log-format json"
            f" --shard {i}/{SHARDS} --rate 225"
            " --token-file /etc/afimport/token --mapping /etc/afimport/renewals.yaml"
            f" --report /data/reports/renewals-{DAY}.shard-{i}-of-{SHARDS}.report.csv"
            f" --metrics-file /var/lib/node_exporter/textfile/afimport-{i}.prom"
            f" /data/exports/{DAY}/"
            for i in range(SHARDS)
        ],
    )
