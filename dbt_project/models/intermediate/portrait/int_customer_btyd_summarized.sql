{#-
  One row per customer with an order day (int_orders_aggregated_to_customer_days): the BTYD summary the portrait
  shows and the CLV models are fitted on (frequency, recency, T, monetary value, in days, as the
  lifetimes package defines them), the purchase totals, and the gap before the last order day.
-#}
with

order_days as (

    select * from {{ ref('int_orders_aggregated_to_customer_days') }}

),

customer_orders as (

    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(order_count) as order_count,
        sum(revenue) as total_revenue,
        count(*) - 1 as frequency,
        sum(case when order_day_number > 1 then revenue else 0 end) as repeat_revenue

    from order_days
    group by customer_id

),

last_order_gaps as (

    select customer_id, {{ dbt.datediff('previous_order_date', 'order_date', 'day') }} as last_gap_days
    from (
        select
            customer_id,
            order_date,
            lag(order_date) over (partition by customer_id order by order_date) as previous_order_date,
            row_number() over (partition by customer_id order by order_date desc) as recency_rank
        from order_days
    ) as ranked
    where recency_rank = 1

)

select
    customer_orders.customer_id,
    customer_orders.first_order_date,
    customer_orders.last_order_date,
    customer_orders.order_count,
    customer_orders.total_revenue,
    customer_orders.total_revenue / customer_orders.order_count as avg_order_value,
    customer_orders.frequency,
    {{ dbt.datediff('customer_orders.first_order_date', 'customer_orders.last_order_date', 'day') }}
        as recency_days,
    {{ dbt.datediff('customer_orders.first_order_date', as_of_date(), 'day') }} as tenure_days,
    case
        when customer_orders.frequency = 0 then 0
        else customer_orders.repeat_revenue / customer_orders.frequency
    end as monetary_value,
    {{ dbt.datediff('customer_orders.last_order_date', as_of_date(), 'day') }} as days_since_last_order,
    last_order_gaps.last_gap_days,
    {{ as_of_date() }} as as_of_date

from customer_orders
left join last_order_gaps
    on customer_orders.customer_id = last_order_gaps.customer_id
