{#-
  One row per customer with an order in int_orders_filtered: the first order (earliest ordered_at_utc, ties by
  order_id) and the attributes cohorts are cut by. Missing attributes become 'unknown', so every
  customer falls in exactly one value of each cut.
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

ranked_orders as (

    select
        order_id,
        customer_id,
        order_date,
        coupon_code,
        row_number() over (partition by customer_id order by ordered_at_utc, order_id) as order_rank

    from orders

),

first_orders as (

    select * from ranked_orders
    where order_rank = 1

),

first_order_categories as (

    select
        order_items.order_id,
        products.category,
        sum(order_items.line_amount) as category_amount

    from order_items
    inner join first_orders
        on order_items.order_id = first_orders.order_id
    inner join products
        on order_items.product_id = products.product_id
    where products.category is not null
    group by order_items.order_id, products.category

),

ranked_categories as (

    select
        order_id,
        category,
        row_number() over (
            partition by order_id order by category_amount desc, category asc
        ) as category_rank

    from first_order_categories

)

select
    first_orders.customer_id,
    first_orders.order_id as first_order_id,
    first_orders.order_date as first_order_date,
    coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
    coalesce(cast(customers.city_tier as {{ dbt.type_string() }}), 'unknown') as city_tier,
    coalesce(ranked_categories.category, 'unknown') as first_order_category,
    case when first_orders.coupon_code is null then 'no_coupon' else 'coupon' end as first_order_coupon

from first_orders
left join customers
    on first_orders.customer_id = customers.customer_id
left join ranked_categories
    on first_orders.order_id = ranked_categories.order_id
    and ranked_categories.category_rank = 1
