{#-
  Acquisition cohorts (period of each customer's first order) per grain (month, ISO week) and cut
  ('all', acquisition channel, first-order category, city tier, first-order coupon), with one row per
  period from the cohort's start to the as-of date's period: who ordered, how much, and the running
  figures (rolling retention, cumulative revenue). Periods without orders are rows of zeros: the spine
  comes from dbt.generate_series.
-#}
{%- set grains = cohort_grains() -%}
{%- set period_limits = [] -%}
{%- for grain in grains -%}{%- do period_limits.append(grain_period_limit(grain)) -%}{%- endfor -%}
{%- set cohort_partition = 'partition by cohort_grain, cohort_dimension, cohort_value, cohort_start' -%}
with

first_orders as (

    select * from {{ ref('int_customer_first_orders_enriched') }}

),

order_days as (

    select * from {{ ref('int_orders_aggregated_to_customer_days') }}

),

period_numbers as (

    {#- 0 .. the largest limit: dbt's series counts from 1 -#}
    select generated_number - 1 as n from ({{ dbt.generate_series((period_limits | max) + 1) }}) as series

),

cohort_members as (

    {{ cohort_members('first_orders') }}

),

customer_periods as (

    {% for grain in grains -%}
    select
        cast('{{ grain }}' as {{ dbt.type_string() }}) as cohort_grain,
        order_days.customer_id,
        {{ dbt.datediff(
            cohort_start(grain, 'first_orders.first_order_date'),
            cohort_start(grain, 'order_days.order_date'),
            grain) }} as period_index,
        sum(order_days.order_count) as orders,
        sum(order_days.revenue) as revenue

    from order_days
    inner join first_orders
        on order_days.customer_id = first_orders.customer_id
    group by 1, 2, 3
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

customer_periods_flagged as (

    select
        *,
        -- the customer's last active period: rolling retention counts the customer up to it
        period_index = max(period_index) over (
            partition by cohort_grain, customer_id
        ) as is_last_period

    from customer_periods

),

cohorts as (

    select
        cohort_grain,
        cohort_dimension,
        cohort_value,
        cohort_start,
        count(*) as cohort_size,
        case
            {% for grain in grains -%}
            when cohort_grain = '{{ grain }}' then {{ dbt.datediff(
                'cohort_start', cohort_start(grain, as_of_date()), grain) }}
            {% endfor -%}
        end as as_of_period_index

    from cohort_members
    group by cohort_grain, cohort_dimension, cohort_value, cohort_start

),

period_activity as (

    select
        cohort_members.cohort_grain,
        cohort_members.cohort_dimension,
        cohort_members.cohort_value,
        cohort_members.cohort_start,
        customer_periods_flagged.period_index,
        count(*) as active_customers,
        sum(customer_periods_flagged.orders) as orders,
        sum(customer_periods_flagged.revenue) as revenue,
        count(case when customer_periods_flagged.is_last_period then 1 end) as last_active_customers

    from customer_periods_flagged
    inner join cohort_members
        on customer_periods_flagged.customer_id = cohort_members.customer_id
        and customer_periods_flagged.cohort_grain = cohort_members.cohort_grain
    group by 1, 2, 3, 4, 5

),

cohort_periods as (

    select
        cohorts.cohort_grain,
        cohorts.cohort_dimension,
        cohorts.cohort_value,
        cohorts.cohort_start,
        cohorts.cohort_size,
        period_numbers.n as period_index

    from cohorts
    inner join period_numbers
        on cohorts.as_of_period_index >= period_numbers.n

),

filled as (

    select
        cohort_periods.*,
        coalesce(period_activity.active_customers, 0) as active_customers,
        coalesce(period_activity.orders, 0) as orders,
        coalesce(period_activity.revenue, 0) as revenue,
        coalesce(period_activity.last_active_customers, 0) as last_active_customers

    from cohort_periods
    left join period_activity
        on cohort_periods.cohort_grain = period_activity.cohort_grain
        and cohort_periods.cohort_dimension = period_activity.cohort_dimension
        and cohort_periods.cohort_value = period_activity.cohort_value
        and cohort_periods.cohort_start = period_activity.cohort_start
        and cohort_periods.period_index = period_activity.period_index

),

running as (

    select
        *,
        max(case when period_index = 0 then revenue end) over ({{ cohort_partition }}) as start_revenue,
        sum(revenue) over (
            {{ cohort_partition }} order by period_index
            rows between unbounded preceding and current row
        ) as cumulative_revenue,
        sum(last_active_customers) over (
            {{ cohort_partition }} order by period_index desc
            rows between unbounded preceding and current row
        ) as rolling_active_customers

    from filled

),

periods as (

    select
        *,
        case
            {% for grain in grains -%}
            when
                cohort_grain = '{{ grain }}'
                then cast({{ dbt.dateadd(grain, 'period_index', 'cohort_start') }} as date)
            {% endfor -%}
        end as period_start,
        case
            {% for grain in grains -%}
            when cohort_grain = '{{ grain }}' then {{ dbt.last_day(
                dbt.dateadd(grain, 'period_index', 'cohort_start'), grain) }}
            {% endfor -%}
        end as period_end

    from running

)

select
    cohort_grain,
    cohort_dimension,
    cohort_value,
    cohort_start,
    cast(period_index as {{ dbt.type_int() }}) as period_index,
    period_start,
    period_end,
    period_end <= {{ as_of_date() }} as is_complete,
    cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
    cast(active_customers as double) / cohort_size as retention_rate,
    cast(rolling_active_customers as {{ dbt.type_bigint() }}) as rolling_active_customers,
    cast(rolling_active_customers as double) / cohort_size as rolling_retention_rate,
    cast(orders as {{ dbt.type_bigint() }}) as orders,
    cast(revenue as decimal(18, 2)) as revenue,
    case
        when start_revenue = 0 then null
        else cast(revenue as double) / cast(start_revenue as double)
    end as revenue_retention_rate,
    cast(cumulative_revenue as decimal(18, 2)) as cumulative_revenue,
    cast(cumulative_revenue as double) / cohort_size as cumulative_revenue_per_customer

from periods
where {{ required_sources_landed() }}
