{#-
  Each cohort has exactly one row per month from its start (period 0) to the as-of date's month,
  and period 0 holds the whole cohort.
-#}
with

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

cohorts as (

    select
        cohort_start,
        count(*) as period_rows,
        count(distinct period_index) as distinct_periods,
        min(period_index) as first_period,
        max(period_index) as last_period,
        max(case when period_index = 0 then active_customers end) as period_zero_active,
        max(cohort_size) as cohort_size
    from cohort_retention
    group by cohort_start

)

select *
from cohorts
where first_period != 0
    or last_period != {{ dbt.datediff('cohort_start', dbt.date_trunc('month', as_of_date()), 'month') }}
    or period_rows != last_period + 1
    or distinct_periods != period_rows
    or period_zero_active != cohort_size
