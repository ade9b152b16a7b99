{#-
  One row per customer with an order in int_orders_filtered: the order details behind the portrait's
  consumption tags (payment, promotions, returns, categories, brands). Orders placed inside a window
  of withdrawn purchase_history consent (int_customer_consents_windowed) are left out.
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

consent_windows as (

    select * from {{ ref('int_customer_consents_windowed') }}

),

customers as (

    select distinct customer_id from orders

),

consented_orders as (

    select orders.*
    from orders
    where {{ consented('orders', 'purchase_history', 'ordered_at_utc') }}

),

order_details as (

    select
        customer_id,
        count(*) as detail_orders,
        sum(case when payment_method = 'instalment' then 1 else 0 end) as instalment_orders,
        sum(case when coupon_code is not null or coalesce(discount_amount, 0) > 0 then 1 else 0 end)
            as promotion_orders,
        sum(case when status = 'returned' then 1 else 0 end) as returned_orders

    from consented_orders
    group by customer_id

),

item_spend as (

    select
        consented_orders.customer_id,
        products.category,
        products.brand,
        order_items.quantity * order_items.unit_price - coalesce(order_items.discount_amount, 0) as spend

    from order_items
    inner join consented_orders on order_items.order_id = consented_orders.order_id
    left join products on order_items.product_id = products.product_id

),

top_payment_methods as (

    {{ customer_top_value('consented_orders', 'payment_method') }}

),

top_categories as (

    {{ customer_top_value('item_spend', 'category', ranked_by='sum(spend)') }}

),

top_brands as (

    {{ customer_top_value('item_spend', 'brand', ranked_by='sum(spend)') }}

)

select
    customers.customer_id,
    order_details.detail_orders,
    top_payment_methods.payment_method as preferred_payment_method,
    order_details.instalment_orders > 0 as uses_instalments,
    cast(order_details.promotion_orders as double) / order_details.detail_orders as promotion_order_share,
    cast(order_details.returned_orders as double) / order_details.detail_orders as return_rate,
    top_categories.category as top_category,
    top_brands.brand as top_brand

from customers
left join order_details on customers.customer_id = order_details.customer_id
left join top_payment_methods on customers.customer_id = top_payment_methods.customer_id
left join top_categories on customers.customer_id = top_categories.customer_id
left join top_brands on customers.customer_id = top_brands.customer_id
