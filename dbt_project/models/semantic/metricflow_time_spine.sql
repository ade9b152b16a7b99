{#-
  MetricFlow's time spine: one row per day from the earliest day any semantic model is dated by
  (a signup, a cohort's first day, an attributed or spend day) up to the as-of date.
-#}
with

first_days as (

    select min(signup_date) as first_day from {{ ref('retention_daily') }}
    union all
    select min(cohort_start) from {{ ref('cohort_retention') }}
    union all
    select min(activity_date) from {{ ref('attribution_daily') }}

),

bounds as (

    select min(first_day) as first_day, {{ as_of_date() }} as last_day from first_days

)

select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as date_day
from bounds
where first_day is not null
