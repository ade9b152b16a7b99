{#-
  Each cohort (grain, cut, start) has exactly one row per period from its start (period 0) to the
  as-of date's period, period 0 holds the whole cohort, and rolling retention never grows.
-#}
with

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

with_previous as (

    select
        *,
        lag(rolling_active_customers) over (
            partition by cohort_grain, cohort_dimension, cohort_value, cohort_start order by period_index
        ) as previous_rolling_active_customers

    from cohort_retention

),

cohorts as (

    select
        cohort_grain,
        cohort_dimension,
        cohort_value,
        cohort_start,
        count(*) as period_rows,
        count(distinct period_index) as distinct_periods,
        min(period_index) as first_period,
        max(period_index) as last_period,
        max(case when period_index = 0 then active_customers end) as period_zero_active,
        max(case when period_index = 0 then rolling_active_customers end) as period_zero_rolling,
        max(cohort_size) as cohort_size,
        sum(case when rolling_active_customers > previous_rolling_active_customers then 1 else 0 end)
            as rolling_increases,
        case
            {% for grain in cohort_grains() -%}
            when cohort_grain = '{{ grain }}' then {{ dbt.datediff(
                'cohort_start', cohort_start(grain, as_of_date()), grain) }}
            {% endfor -%}
        end as as_of_period_index

    from with_previous
    group by cohort_grain, cohort_dimension, cohort_value, cohort_start

)

select *
from cohorts
where first_period != 0
    or last_period != as_of_period_index
    or period_rows != last_period + 1
    or distinct_periods != period_rows
    or period_zero_active != cohort_size
    or period_zero_rolling != cohort_size
    or rolling_increases > 0
