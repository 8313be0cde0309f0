#!/usr/bin/env python3
"""Writes headers.json: real public sales-export headers (each with the
repository and path it was read from) and the mapping expected for each
column, decided from the column's meaning before the mapper was run.

Expected targets are lists of acceptable answers, the first preferred;
None means "no attribute of the target schema holds this" (the column
stays in staging's _extra).  Rules applied to every file alike:
  order / invoice / transaction id -> order_line.order_id; its line or
  item number -> order_line.line_number; order, invoice, purchase or
  transaction date (a timestamp too) -> order_line.order_date; a time of
  day alone -> None; ship date -> ship_date; due / estimated delivery ->
  due_date (or None); the customer's and the product's key on a line ->
  order_line.customer_id / product_id (customer.customer_id /
  product.product_id accepted); product name, item, description ->
  product.name (description: product.description accepted); category ->
  product.category; quantity, unit price, line total, discount (money),
  tax, shipping/freight -> the order_line's; status, payment status,
  payment method -> the order_line's; the customer's name, e-mail,
  phone, gender, segment and billing address -> customer.*; a country,
  city, state or postal code on an order line -> the customer's (or the
  ship-to location's); shipping-address parts -> location.* (the ship-to
  place) or customer.* or None; anything else (profit, margins, fees,
  flags, internal ids, ages) -> None.
"""
import json
import os

OL, C, P, L = "order_line.", "customer.", "product.", "location."
N = None


def ship(attr):
    """A shipping-address part: the ship-to location, the customer, or nothing."""
    return [L + attr, C + attr, N]


def cust(attr):
    """An address part of the customer on an order line (ship-to accepted)."""
    return [C + attr, L + attr]


ORDER = [OL + "order_id"]
LINE = [OL + "line_number"]
DATE = [OL + "order_date"]
CUST = [OL + "customer_id", C + "customer_id"]
PROD = [OL + "product_id", P + "product_id"]
NAME = [P + "name"]
DESC = [P + "name", P + "description"]
QTY = [OL + "quantity"]
PRICE = [OL + "unit_price"]
AMOUNT = [OL + "amount"]
NONE = [N]

FILES = [
    ("online_retail_uci", "OmarAlSaghier/airflow_aws_pipeline", "include/redshift/retail_quries.sql",
     [("InvoiceNo", ORDER), ("StockCode", PROD), ("Description", DESC), ("Quantity", QTY),
      ("InvoiceDate", DATE), ("UnitPrice", PRICE), ("CustomerID", CUST), ("Country", cust("country"))]),
    ("online_retail_ii", "vannguyende/Assignment", "airflow/projects/sql/assignment_online_retail.sql",
     [("InvoiceID", ORDER), ("StockCode", PROD), ("Description", DESC), ("Quantity", QTY),
      ("InvoiceDate", DATE), ("Price", PRICE), ("CustomerID", CUST), ("Country", cust("country"))]),
    ("superstore_us", "chansoriyasumit/dashboardAssismentBackend", "src/types.ts",
     [("Row ID", [N, OL + "line_number"]), ("Order ID", ORDER), ("Order Date", DATE),
      ("Ship Date", [OL + "ship_date"]), ("Ship Mode", NONE), ("Customer ID", CUST),
      ("Customer Name", [C + "full_name"]), ("Segment", [C + "segment"]), ("Country", cust("country")),
      ("City", cust("city")), ("State", cust("state")), ("Postal Code", cust("postal_code")),
      ("Region", [C + "region", L + "region"]), ("Product ID", PROD), ("Category", [P + "category"]),
      ("Sub-Category", [P + "subcategory"]), ("Product Name", NAME), ("Sales", AMOUNT), ("Quantity", QTY),
      ("Discount", [N, OL + "discount"]), ("Profit", NONE)]),
    ("global_superstore", "joseluisalmendral/Proyecto9_Clustering_Predicciones", "datos/descripcion_datos.md",
     [("Row ID", [N, OL + "line_number"]), ("Order ID", ORDER), ("Order Date", DATE),
      ("Ship Date", [OL + "ship_date"]), ("Ship Mode", NONE), ("Customer ID", CUST),
      ("Customer Name", [C + "full_name"]), ("Segment", [C + "segment"]), ("City", cust("city")),
      ("State", cust("state")), ("Country", cust("country")), ("Postal Code", cust("postal_code")),
      ("Market", [N, C + "region"]), ("Region", [C + "region", L + "region"]), ("Product ID", PROD),
      ("Category", [P + "category"]), ("Sub-Category", [P + "subcategory"]), ("Product Name", NAME),
      ("Sales", AMOUNT), ("Quantity", QTY), ("Discount", [N, OL + "discount"]), ("Profit", NONE),
      ("Shipping Cost", [OL + "shipping_cost"]), ("Order Priority", NONE)]),
    ("olist_orders", "mahres123/Data-analysis-with-spark-scala", "src/main/scala/models/Order.scala",
     [("order_id", ORDER), ("customer_id", CUST), ("order_status", [OL + "status"]),
      ("order_purchase_timestamp", DATE), ("order_approved_at", NONE),
      ("order_delivered_carrier_date", [N, OL + "ship_date"]), ("order_delivered_customer_date", NONE),
      ("order_estimated_delivery_date", [N, OL + "due_date"])]),
    ("olist_order_items", "robbfox/ai-driven-gcp-data-warehouse", "dbt_project/models/staging/stg_order_items.sql",
     [("order_id", ORDER), ("order_item_id", LINE), ("product_id", PROD), ("seller_id", NONE),
      ("shipping_limit_date", [N, OL + "ship_date", OL + "due_date"]), ("price", PRICE),
      ("freight_value", [OL + "shipping_cost"])]),
    ("shopify_orders", "laplace-live/shopify-csv-converter", "src/types/index.d.ts",
     [("Name", ORDER), ("Email", [C + "email"]), ("Created at", DATE), ("Lineitem quantity", QTY),
      ("Lineitem name", NAME), ("Lineitem price", PRICE), ("Lineitem compare at price", NONE),
      ("Lineitem sku", PROD), ("Lineitem requires shipping", NONE), ("Lineitem taxable", NONE),
      ("Lineitem fulfillment status", NONE), ("Vendor", [N, P + "brand", P + "manufacturer"]),
      ("Lineitem discount", [OL + "discount"]), ("Financial Status", [OL + "payment_status"]),
      ("Paid at", NONE), ("Fulfillment Status", [OL + "status", N]), ("Accepts Marketing", NONE),
      ("Currency", NONE), ("Subtotal", NONE), ("Shipping", [OL + "shipping_cost"]), ("Taxes", [OL + "tax"]),
      ("Total", NONE), ("Discount Amount", [N, OL + "discount"]), ("Shipping Method", NONE),
      ("Billing Name", [C + "full_name"]), ("Billing Street", [C + "address"]),
      ("Billing Address1", [C + "address", N]), ("Billing City", [C + "city"]),
      ("Billing Zip", [C + "postal_code"]), ("Billing Province", [C + "state"]),
      ("Billing Country", [C + "country"]), ("Billing Phone", [C + "phone"]),
      ("Shipping Name", [N, L + "name"]), ("Shipping Street", ship("address")),
      ("Shipping Address1", ship("address")), ("Shipping City", ship("city")),
      ("Shipping Zip", ship("postal_code")), ("Shipping Province", ship("state")),
      ("Shipping Country", ship("country")), ("Shipping Phone", NONE),
      ("Payment Method", [OL + "payment_method"]), ("Payment Reference", NONE), ("Refunded Amount", NONE),
      ("Outstanding Balance", NONE), ("Id", NONE), ("Risk Level", NONE), ("Source", NONE),
      ("Tax 1 Name", NONE), ("Tax 1 Value", [N, OL + "tax"]), ("Billing Province Name", [C + "state", N]),
      ("Shipping Province Name", ship("state")), ("Payment ID", NONE), ("Payment References", NONE)]),
    ("amazon_in_transactions", "yoyessunny/amazon-app", "Front-end/src/components/columnsPayment.js",
     [("Date/Time", DATE), ("settlement id", NONE), ("type", NONE), ("order id", ORDER), ("SKU", PROD),
      ("description", DESC), ("quantity", QTY), ("marketplace", NONE), ("account type", NONE),
      ("fulfillment", NONE), ("order city", cust("city")), ("order state", cust("state")),
      ("order postal", cust("postal_code")), ("product sales", AMOUNT), ("shipping credits", [N, OL + "shipping_cost"]),
      ("promotional rebates", [N, OL + "discount"]), ("Total sales", [N, OL + "amount"]), ("TCS CGST", NONE),
      ("TCS SGST", NONE), ("TCS IGST", NONE), ("selling fees", NONE), ("fba fees", NONE),
      ("other transaction fees", NONE), ("other", NONE), ("total", NONE)]),
    ("amazon_in_sales_report", "pandey0012/amazon-sales-analysis", "create_tables.sql",
     [("order_id", ORDER), ("order_date", DATE), ("status", [OL + "status"]), ("fulfillment", NONE),
      ("sales_channel", NONE), ("category", [P + "category"]), ("size", [P + "size", N]), ("quantity", QTY),
      ("amount", AMOUNT), ("city", cust("city")), ("state", cust("state"))]),
    ("tiktok_shop_orders", "jeffpham2906/JP-Manager", "server/types/order.d.ts",
     [("Order ID", ORDER), ("Order Status", [OL + "status"]), ("Order Substatus", NONE),
      ("Cancelation/Return Type", NONE), ("Normal or Pre-order", NONE), ("SKU ID", PROD),
      ("Seller SKU", [N, P + "product_number"]), ("Product Name", NAME), ("Variation", NONE), ("Quantity", QTY),
      ("Sku Quantity of return", NONE), ("SKU Unit Original Price", PRICE),
      ("SKU Subtotal Before Discount", NONE), ("SKU Platform Discount", NONE),
      ("SKU Seller Discount", [OL + "discount", N]), ("SKU Subtotal After Discount", AMOUNT),
      ("Shipping Fee After Discount", [OL + "shipping_cost", N]), ("Original Shipping Fee", NONE),
      ("Shipping Fee Seller Discount", NONE), ("Shipping Fee Platform Discount", NONE),
      ("Payment platform discount", NONE), ("Taxes", [OL + "tax"]), ("Order Amount", NONE),
      ("Order Refund Amount", NONE), ("Created Time", DATE), ("Paid Time", NONE), ("RTS Time", NONE),
      ("Shipped Time", [OL + "ship_date", N]), ("Delivered Time", NONE), ("Cancelled Time", NONE),
      ("Cancel By", NONE), ("Cancel Reason", NONE), ("Fulfillment Type", NONE), ("Warehouse Name", NONE),
      ("Tracking ID", NONE), ("Delivery Option", NONE), ("Shipping Provider Name", NONE),
      ("Buyer Message", NONE), ("Buyer Username", [N, C + "customer_id", OL + "customer_id"]),
      ("Recipient", [C + "full_name", L + "name", N]), ("Phone #", [C + "phone"]), ("Country", cust("country")),
      ("Province", cust("state")), ("District", NONE), ("Commune", NONE), ("Detail Address", cust("address")),
      ("Additional address information", NONE), ("Payment Method", [OL + "payment_method"]),
      ("Weight(kg)", [N, P + "weight"]), ("Product Category", [P + "category"]), ("Package ID", NONE),
      ("Seller Note", NONE), ("Checked Status", NONE), ("Checked Marked by", NONE)]),
    ("ebay_orders", "randomecho/shifted-sales-report", "README.md",
     [("Sales Record Number", NONE), ("Order Number", ORDER), ("Buyer Username", [N, OL + "customer_id", C + "customer_id"]),
      ("Buyer Name", [C + "full_name"]), ("Buyer Email", [C + "email"]), ("Buyer Note", NONE),
      ("Buyer Address 1", [C + "address"]), ("Buyer Address 2", [N, C + "address"]), ("Buyer City", [C + "city"]),
      ("Buyer State", [C + "state"]), ("Buyer Zip", [C + "postal_code"]), ("Buyer Country", [C + "country"]),
      ("Buyer Tax Identifier Name", NONE), ("Buyer Tax Identifier Value", NONE), ("Ship To Name", [N, L + "name"]),
      ("Ship To Phone", NONE), ("Ship To Address 1", ship("address")), ("Ship To Address 2", [N, L + "address"]),
      ("Ship To City", ship("city")), ("Ship To State", ship("state")), ("Ship To Zip", ship("postal_code")),
      ("Ship To Country", ship("country")), ("Item Number", PROD), ("Item Title", NAME),
      ("Custom Label", [N, P + "product_number"]), ("Sold Via Promoted Listings", NONE), ("Quantity", QTY),
      ("Sold For", PRICE), ("Shipping And Handling", [OL + "shipping_cost"]), ("Item Location", NONE),
      ("Item Zip Code", NONE), ("Item Country", NONE), ("eBay Collect And Remit Tax Rate", NONE),
      ("eBay Collect And Remit Tax Type", NONE), ("eBay Reference Name", NONE), ("eBay Reference Value", NONE),
      ("Tax Status", NONE), ("Seller Collected Tax", [OL + "tax", N]), ("eBay Collected Tax", [N, OL + "tax"]),
      ("Electronic Waste Recycling Fee", NONE), ("Mattress Recycling Fee", NONE), ("Battery Recycling Fee", NONE),
      ("White Goods Disposal Tax", NONE), ("Tire Recycling Fee", NONE), ("Additional Fee", NONE),
      ("Lumber Fee", NONE), ("Prepaid Wireless Fee", NONE), ("Road Improvement And Food Delivery Fee", NONE),
      ("eBay Collected Charges", NONE), ("Total Price", [AMOUNT[0], N]),
      ("eBay Collected Tax and Fees Included in Total", NONE), ("Payment Method", [OL + "payment_method"]),
      ("Sale Date", DATE), ("Paid On Date", NONE), ("Ship By Date", [N, OL + "due_date"]),
      ("Minimum Estimated Delivery Date", NONE), ("Maximum Estimated Delivery Date", NONE),
      ("Shipped On Date", [OL + "ship_date"]), ("Feedback Left", NONE), ("Feedback Received", NONE),
      ("My Item Note", NONE), ("PayPal Transaction ID", NONE), ("Shipping Service", NONE),
      ("Tracking Number", NONE), ("Transaction ID", [N, OL + "line_number"]), ("Variation Details", NONE),
      ("Global Shipping Program", NONE), ("Global Shipping Reference ID", NONE), ("Click And Collect", NONE),
      ("Click And Collect Reference Number", NONE), ("eBay Plus", NONE), ("Authenticity Verification Program", NONE),
      ("Authenticity Verification Status", NONE), ("Authenticity Verification Outcome Reason", NONE),
      ("PSA Vault Program", NONE), ("Vault Fulfillment Type", NONE), ("eBay Fulfillment Program", NONE),
      ("Tax City", NONE), ("Tax State", NONE), ("Tax Zip", NONE), ("Tax Country", NONE),
      ("eBay International Shipping", NONE)]),
    ("sales_product_data", "ankur0278/ELEVATELABS_Task06", "order_table.sql",
     [("Order ID", ORDER), ("Product", NAME), ("Quantity Ordered", QTY), ("Price Each", PRICE),
      ("Order Date", DATE), ("Purchase Address", cust("address"))]),
    ("sales_data_sample", "rekls2311/SQL-PROJECT-1", "project1.sql",
     [("ordernumber", ORDER), ("quantityordered", QTY), ("priceeach", PRICE), ("orderlinenumber", LINE),
      ("sales", AMOUNT), ("orderdate", DATE), ("status", [OL + "status"]), ("productline", [P + "product_line", P + "category"]),
      ("msrp", [P + "price", N]), ("productcode", PROD), ("customername", [C + "full_name"]), ("phone", [C + "phone"]),
      ("addressline1", [C + "address"]), ("addressline2", [N, C + "address"]), ("city", cust("city")),
      ("state", cust("state")), ("postalcode", cust("postal_code")), ("country", cust("country")),
      ("territory", [C + "region", N]), ("contactfullname", [N, C + "full_name"]), ("dealsize", NONE)]),
    ("supermarket_sales", "loeb-ift/dbwiki", "supermarket_ddl.sql",
     [("Invoice ID", ORDER), ("Branch", [N, L + "location_id"]), ("City", [L + "city", C + "city", N]),
      ("Customer type", [C + "segment", N]), ("Gender", [C + "gender"]), ("Product line", [P + "product_line", P + "category"]),
      ("Unit price", PRICE), ("Quantity", QTY), ("Tax 5%", [OL + "tax"]), ("Sales", AMOUNT), ("Date", DATE),
      ("Time", NONE), ("Payment", [OL + "payment_method"]), ("cogs", NONE), ("gross margin percentage", NONE),
      ("gross income", NONE), ("Rating", NONE)]),
    ("coffee_shop_sales", "Mdkamrulislam54/Maven-Coffee-sales-Analysis", "README.md",
     [("transaction_id", ORDER), ("transaction_date", DATE), ("transaction_time", NONE), ("transaction_qty", QTY),
      ("store_id", [N, L + "location_id"]), ("store_location", [N, L + "name", L + "city"]), ("product_id", PROD),
      ("unit_price", PRICE), ("product_category", [P + "category"]), ("product_type", [P + "subcategory", N]),
      ("product_detail", NAME)]),
    ("pizza_sales", "Ranger3560/Business_Analyst_Internship", "HR_Analyst/create.sql",
     [("order_details_id", [LINE[0], N]), ("order_id", ORDER), ("pizza_id", PROD), ("quantity", QTY),
      ("order_date", DATE), ("order_time", NONE), ("unit_price", PRICE), ("total_price", AMOUNT),
      ("pizza_size", [P + "size"]), ("pizza_category", [P + "category"]), ("pizza_ingredients", [N, P + "description"]),
      ("pizza_name", NAME)]),
    ("retail_sales_dataset", "Hemanthk408/Retail-Sales", "README.md",
     [("Transaction ID", ORDER), ("Date", DATE), ("Customer ID", CUST), ("Gender", [C + "gender"]), ("Age", NONE),
      ("Product Category", [P + "category"]), ("Quantity", QTY), ("Price per Unit", PRICE), ("Total Amount", AMOUNT)]),
    ("adidas_us_sales", "Ahmedabbas75/Adidas-Sales", "README.md",
     [("Retailer", [C + "full_name", N]), ("Retailer ID", CUST), ("Invoice Date", DATE),
      ("Region", [C + "region", L + "region"]), ("State", cust("state")), ("City", cust("city")),
      ("Product", NAME), ("Price per Unit", PRICE), ("Units Sold", QTY), ("Total Sales", AMOUNT),
      ("Operating Profit", NONE), ("Operating Margin", NONE), ("Sales Method", NONE)]),
    ("black_friday", "Vinay352/Black-Friday-Data-Set-Analysis", "README.md",
     [("User_ID", CUST), ("Product_ID", PROD), ("Gender", [C + "gender"]), ("Age", NONE), ("Occupation", NONE),
      ("City_Category", NONE), ("Stay_In_Current_City_Years", NONE), ("Marital_Status", [C + "marital_status"]),
      ("Product_Category_1", [P + "category", N]), ("Product_Category_2", [N, P + "subcategory"]),
      ("Product_Category_3", NONE), ("Purchase", AMOUNT)]),
    ("classicmodels_orderdetails", "tejado/cicd-sql-schema-migrations", "schema/orderdetails.sql",
     [("orderNumber", ORDER), ("productCode", PROD), ("quantityOrdered", QTY), ("priceEach", PRICE),
      ("orderLineNumber", LINE)]),
    ("northwind_order_details", "EduardoPeLima/data_engineering_northwind_project",
     "04_aws/01_rds_mysql/sql_files/08_create_tb_order_details.sql",
     [("OrderDetailID", [LINE[0], N]), ("OrderID", ORDER), ("ProductID", PROD), ("Quantity", QTY)]),
    ("adventureworks_internet_sales", "Sevenlords/data-practice-acn", "Alicja/MyDW_Sol/dbo/Tables/factInternetSales.sql",
     [("SalesOrderID", [N, OL + "order_id"]), ("SalesOrderNumber", [OL + "order_id", N]),
      ("SalesOrderDetailID", [LINE[0], N]), ("DateKey", DATE), ("CustomerKey", CUST), ("ProductKey", PROD),
      ("OrderQuantity", QTY), ("UnitPrice", PRICE), ("ExtendedAmount", [N, OL + "amount"]),
      ("UnitPriceDiscountPct", NONE), ("DiscountAmount", [OL + "discount"]), ("ProductStandardCost", [N, P + "cost"]),
      ("TotalProductCost", NONE), ("SalesAmount", AMOUNT), ("Timestamp", [N, OL + "updated_at"])]),
    ("square_item_sales", "lunhsiangyuan/VannaAi_sql", "db_schema.md",
     [("Date", DATE), ("Time", NONE), ("Time Zone", NONE), ("Category", [P + "category"]), ("Item", NAME),
      ("Qty", QTY), ("Price Point Name", NONE), ("SKU", PROD), ("Modifiers Applied", NONE),
      ("Gross Sales", [N, OL + "amount"]), ("Discounts", [OL + "discount"]), ("Net Sales", [OL + "amount", N]),
      ("Tax", [OL + "tax"]), ("Transaction ID", ORDER), ("Payment ID", NONE), ("Device Name", NONE), ("Notes", NONE),
      ("Details", NONE), ("Event Type", NONE), ("Location", [N, L + "name"]), ("Dining Option", NONE),
      ("Customer ID", CUST), ("Customer Name", [C + "full_name"]), ("Customer Reference ID", NONE), ("Unit", NONE),
      ("Count", NONE), ("GTIN", [N, P + "product_number"]), ("Itemization Type", NONE), ("Fulfillment Note", NONE),
      ("Channel", NONE), ("Token", NONE)]),
    ("magento_shipstation", "Yogasmoga/YogasmogaWebsite", "orderData4shipstation.php",
     [("order_id", ORDER), ("created_at", DATE), ("grand_total", NONE), ("total_paid", NONE),
      ("tax_amount", [OL + "tax", N]), ("shipping_amount", [OL + "shipping_cost", N]), ("shipping_description", NONE),
      ("customer name", [C + "full_name"]), ("customer_firstname", [C + "first_name"]),
      ("customer_lastname", [C + "last_name"]), ("customer_email", [C + "email"]), ("shipping_telephone", NONE),
      ("shipping_first_name", NONE), ("shipping_last_name", NONE), ("shipping_full_name", [N, L + "name"]),
      ("shipping_address", ship("address")), ("shipping_city", ship("city")), ("shipping_region", ship("state")),
      ("shipping_postcode", ship("postal_code")), ("shipping_country", ship("country")),
      ("billing_telephone", [C + "phone"]), ("billing_first_name", [N, C + "first_name"]),
      ("billing_last_name", [N, C + "last_name"]), ("billing_full_name", [N, C + "full_name"]),
      ("billing_address", [C + "address"]), ("billing_city", [C + "city"]), ("billing_region", [C + "state"]),
      ("billing_postcode", [C + "postal_code"]), ("billing_country", [C + "country"]), ("product_name", NAME),
      ("sku", PROD), ("qty", QTY), ("price", PRICE)]),
    ("beerstore_order_report", "Truinc/beerstore-admin-oms-api", "src/component/serverOrder/reportHeaders/OrderReport.header.ts",
     [("Unique Order ID", ORDER), ("Store Number", [N, L + "location_id"]), ("Order Status Desc", [OL + "status"]),
      ("Order Submitted Time", [DATE[0], N]), ("Order Submitted Date", DATE), ("Order Vector", NONE),
      ("Order Type", NONE), ("Line Item", [LINE[0], N]), ("Item SKU", PROD), ("Item Desc", DESC),
      ("Brewer", [P + "manufacturer", P + "brand"]), ("Category", [P + "category"]), ("Quantity", QTY),
      ("Pack Size", [N, P + "size"]), ("Volume", NONE), ("Container Type", NONE), ("Item $ Total", AMOUNT),
      ("Item hL Total", NONE), ("Available", NONE), ("Customer ID", CUST), ("Email", [C + "email"]),
      ("Postal Code", cust("postal_code")), ("Delivery Fee", [OL + "shipping_cost"]), ("Delivery Fee HST", NONE),
      ("Refunded", NONE), ("Refund Amount", NONE), ("Refund Reason", NONE), ("Utm Source", NONE),
      ("Utm Medium", NONE), ("Utm Campaign", NONE), ("Utm Term", NONE), ("Utm Cotent", NONE), ("Pick Up Type", NONE)]),
    ("webshop_csv_orders", "apixcel/telegraaf-webshop-backend", "src/app/interface/order.interface.ts",
     [("orderId", ORDER), ("orderDate", DATE), ("shippingDate", [OL + "ship_date"]), ("qtyShipped", [N, OL + "quantity"]),
      ("shipper", NONE), ("trackAndTraceCode", NONE), ("trackAndTraceUrl", NONE),
      ("customerFirstname", [C + "first_name"]), ("customerLastname", [C + "last_name"]),
      ("shippingAddressStreet", ship("address")), ("shippingAddressNumber", [N, L + "address", C + "address"]),
      ("shippingAddressNumberAddition", NONE), ("shippingAddressPostcode", ship("postal_code")),
      ("shippingAddressCity", ship("city")), ("shippingAddressCountry", ship("country")),
      ("customerEmail", [C + "email"]), ("telephone", [C + "phone"]), ("sku", PROD), ("quantity", QTY),
      ("EAN", [N, P + "product_number"]), ("costPrice", [N, P + "cost"]), ("name", NAME),
      ("expectedShippingDate", [N, OL + "due_date"])]),
    ("retail_pipeline_sales", "muhammadzaid270/retail_pipeline", "config/schema.md",
     [("Date", DATE), ("Customer ID", CUST), ("Customer Name", [C + "full_name"]), ("Product ID", PROD),
      ("Product Description", DESC), ("Quantity", QTY), ("Price", PRICE), ("Total", AMOUNT), ("Sales_Rep", NONE),
      ("Region", [C + "region", N]), ("Payment Method", [OL + "payment_method"]), ("Commission", NONE),
      ("Email", [C + "email"]), ("Phone", [C + "phone"]), ("Shipping Address", ship("address")),
      ("Order Priority", NONE), ("Tax Amount", [OL + "tax"]), ("Notes", NONE)]),
    ("dqlab_sales_store", "titusjohnson1209/Sales-Performance-Report", "Sales-Performance-Report/SQL/ShowDataset_Query.sql",
     [("order_id", ORDER), ("order_status", [OL + "status"]), ("customer", [C + "full_name", OL + "customer_id"]),
      ("order_date", DATE), ("order_quantity", QTY), ("sales", AMOUNT), ("discount", [N, OL + "discount"]),
      ("discount_value", [OL + "discount"]), ("product_category", [P + "category"]),
      ("product_sub_category", [P + "subcategory"])]),
    ("cube_tutorial_orders", "NalinSajwan/postgresql-cube-tutorial", "samples/data/README.md",
     [("id", ORDER), ("revenue", AMOUNT), ("store", [N, L + "name"]), ("staff", NONE), ("created_on", DATE),
      ("customer_email", [C + "email"]), ("customer_name", [C + "full_name"]), ("customer_phone", [C + "phone"])]),
    ("dunnhumby_transactions", "YuXia-SR/dunnhumby_analysis", "data/data.md",
     [("household_key", CUST), ("BASKET_ID", ORDER), ("DAY", NONE), ("PRODUCT_ID", PROD), ("QUANTITY", QTY),
      ("SALES_VALUE", AMOUNT), ("STORE_ID", [N, L + "location_id"]), ("RETAIL_DISC", [OL + "discount", N]),
      ("TRANS_TIME", NONE), ("WEEK_NO", NONE), ("COUPON_DISC", [N, OL + "discount"]), ("COUPON_MATCH_DISC", NONE)]),
    ("motorcycle_parts_sales", "WeeAnalytics/motorcycle_part_sales_SQL", "motorcyce_part_schema.sql",
     [("order_number", ORDER), ("date", DATE), ("warehouse", [N, L + "name"]), ("client_type", [C + "segment", N]),
      ("product_line", [P + "product_line", P + "category"]), ("quantity", QTY), ("unit_price", PRICE),
      ("total", AMOUNT), ("payment", [OL + "payment_method"]), ("payment_fee", NONE)]),
]


def main():
    out = []
    for name, repo, path, cols in FILES:
        out.append({"name": name, "source": {"repo": repo, "path": path,
                                             "url": "https://github.com/%s/blob/HEAD/%s" % (repo, path)},
                    "header": [c for c, _ in cols], "expected": {c: t for c, t in cols}})
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "headers.json"), "w", encoding="utf-8") as f:
        json.dump({"note": __doc__.strip(), "files": out}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("%d files, %d columns" % (len(out), sum(len(f["header"]) for f in out)))


if __name__ == "__main__":
    main()
