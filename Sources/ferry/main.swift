print("ferry: skeleton")
