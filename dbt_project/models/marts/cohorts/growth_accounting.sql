{#-
  Monthly growth accounting of ordering customers: each month's active customers split into new
  (first order month), retained (also active the month before) and won back (active before, but not
  the month before), and the customers churned (active the month before, not this month). One row
  per month from the first month with an order to the as-of date's month.
-#}
with

order_days as (

    select * from {{ ref('int_orders_aggregated_to_customer_days') }}

),

period_numbers as (

    {#- 0 .. the limit: dbt's series counts from 1 -#}
    select generated_number - 1 as n from ({{ dbt.generate_series(grain_period_limit('month') + 1) }}) as series

),

customer_months as (

    select distinct
        customer_id,
        {{ cohort_start('month', 'order_date') }} as activity_month

    from order_days

),

customer_month_neighbours as (

    select
        customer_id,
        activity_month,
        lag(activity_month) over (partition by customer_id order by activity_month) as previous_active_month,
        lead(activity_month) over (partition by customer_id order by activity_month) as next_active_month

    from customer_months

),

customer_month_flows as (

    select
        activity_month,
        case when previous_active_month is null then 1 else 0 end as is_new,
        case
            when previous_active_month = {{ dbt.dateadd('month', -1, 'activity_month') }} then 1 else 0
        end as is_retained,
        case
            when previous_active_month < {{ dbt.dateadd('month', -1, 'activity_month') }} then 1 else 0
        end as is_won_back,
        case
            when next_active_month is null
                or next_active_month > {{ dbt.dateadd('month', 1, 'activity_month') }} then 1
            else 0
        end as churns_next_month

    from customer_month_neighbours

),

monthly_flows as (

    select
        activity_month,
        count(*) as active_customers,
        sum(is_new) as new_customers,
        sum(is_retained) as retained_customers,
        sum(is_won_back) as won_back_customers,
        sum(churns_next_month) as churning_next_month

    from customer_month_flows
    group by activity_month

),

months as (

    select
        cast({{ dbt.dateadd('month', 'period_numbers.n', 'first_month.activity_month') }} as date) as activity_month

    from (select min(activity_month) as activity_month from customer_months) as first_month
    inner join period_numbers
        on period_numbers.n <= {{ dbt.datediff(
            'first_month.activity_month', cohort_start('month', as_of_date()), 'month') }}

),

filled as (

    select
        months.activity_month,
        coalesce(monthly_flows.active_customers, 0) as active_customers,
        coalesce(monthly_flows.new_customers, 0) as new_customers,
        coalesce(monthly_flows.retained_customers, 0) as retained_customers,
        coalesce(monthly_flows.won_back_customers, 0) as won_back_customers,
        coalesce(previous_flows.active_customers, 0) as previous_active_customers,
        coalesce(previous_flows.churning_next_month, 0) as churned_customers

    from months
    left join monthly_flows
        on months.activity_month = monthly_flows.activity_month
    left join monthly_flows as previous_flows
        on previous_flows.activity_month = {{ dbt.dateadd('month', -1, 'months.activity_month') }}

)

select
    activity_month,
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'activity_month')) }} as date) <= {{ as_of_date() }}
        as is_complete,
    cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
    cast(previous_active_customers as {{ dbt.type_bigint() }}) as previous_active_customers,
    cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
    cast(retained_customers as {{ dbt.type_bigint() }}) as retained_customers,
    cast(won_back_customers as {{ dbt.type_bigint() }}) as won_back_customers,
    cast(churned_customers as {{ dbt.type_bigint() }}) as churned_customers,
    case
        when churned_customers = 0 then null
        else cast(new_customers + won_back_customers as double) / churned_customers
    end as quick_ratio

from filled
where {{ required_sources_landed() }}
