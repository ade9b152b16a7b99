{#-
  Monthly acquisition cohorts (month of each customer's first order in int_orders) and, for every
  month from the cohort's start to the as-of date's month, how many of them ordered and what they
  spent. Months without orders are rows of zeros: the spine comes from integer_series.
-#}
{%- set max_periods = 1199 -%}  {#- 100 years of months; a singular test checks the spine is complete -#}
with

order_days as (

    select * from {{ ref('int_customer_order_days') }}

),

period_numbers as (

    {{ integer_series(max_periods) }}

),

customer_cohorts as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'min(order_date)') }} as date) as cohort_start

    from order_days
    group by customer_id

),

cohorts as (

    select
        cohort_start,
        count(*) as cohort_size

    from customer_cohorts
    group by cohort_start

),

customer_periods as (

    select
        customer_cohorts.cohort_start,
        order_days.customer_id,
        {{ dbt.datediff(
            'customer_cohorts.cohort_start',
            dbt.date_trunc('month', 'order_days.order_date'),
            'month') }} as period_index,
        sum(order_days.revenue) as revenue

    from order_days
    inner join customer_cohorts
        on order_days.customer_id = customer_cohorts.customer_id
    group by 1, 2, 3

),

period_activity as (

    select
        cohort_start,
        period_index,
        count(*) as active_customers,
        sum(revenue) as revenue

    from customer_periods
    group by cohort_start, period_index

),

cohort_periods as (

    select
        cohorts.cohort_start,
        cohorts.cohort_size,
        period_numbers.n as period_index

    from cohorts
    inner join period_numbers
        on period_numbers.n <= {{ dbt.datediff(
            'cohorts.cohort_start', dbt.date_trunc('month', as_of_date()), 'month') }}

),

filled as (

    select
        cohort_periods.cohort_start,
        cohort_periods.period_index,
        cohort_periods.cohort_size,
        coalesce(period_activity.active_customers, 0) as active_customers,
        coalesce(period_activity.revenue, 0) as revenue

    from cohort_periods
    left join period_activity
        on cohort_periods.cohort_start = period_activity.cohort_start
        and cohort_periods.period_index = period_activity.period_index

),

with_start_revenue as (

    select
        *,
        max(case when period_index = 0 then revenue end) over (partition by cohort_start) as start_revenue

    from filled

)

select
    cast('month' as {{ dbt.type_string() }}) as cohort_grain,
    cohort_start,
    cast(period_index as {{ dbt.type_int() }}) as period_index,
    cast({{ dbt.dateadd('month', 'period_index', 'cohort_start') }} as date) as period_start,
    cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
    cast(active_customers as double) / cohort_size as retention_rate,
    cast(revenue as decimal(18, 2)) as revenue,
    case
        when start_revenue = 0 then null
        else cast(revenue as double) / cast(start_revenue as double)
    end as revenue_retention_rate

from with_start_revenue
where {{ required_sources_landed() }}
