def charge(order):
    return order["amount"] / order["quantity"]
